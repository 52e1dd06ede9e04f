"""Webhooks: administrators register endpoints; public events are delivered to them signed.

``events`` maps audit actions to webhook events (imported by ``core.audit``, so it imports
nothing), ``models`` holds the endpoints, deliveries and attempts (part of the ``core`` app),
``services`` owns every change and ``tasks`` only calls it.
"""
