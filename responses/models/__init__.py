"""Departments, routing, responses and their delivery (one module per noun)."""

from responses.models.assignments import (
    Assignment,
    AssignmentQuerySet,
    Debate,
    StaffNotification,
    Track,
)
from responses.models.departments import Department, Membership, RoutingRule
from responses.models.outbox import Mailing, OutboxMessage
from responses.models.responses import InternalNote, Response, ResponseVersion, Review

__all__ = [
    "Assignment",
    "AssignmentQuerySet",
    "Debate",
    "Department",
    "InternalNote",
    "Mailing",
    "Membership",
    "OutboxMessage",
    "Response",
    "ResponseVersion",
    "Review",
    "RoutingRule",
    "StaffNotification",
    "Track",
]
