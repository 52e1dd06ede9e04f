"""Petitions, signatures, places and stored counts (one module per noun)."""

from petitions.models.counts import CountryCount, HourlyCount, RegionCount
from petitions.models.petition import Petition, PetitionQuerySet
from petitions.models.places import Country, PostcodePrefix, Region
from petitions.models.policy import SigningPause, ThresholdPolicy
from petitions.models.signature import Signature
from petitions.models.topics import Topic

__all__ = [
    "Country",
    "CountryCount",
    "HourlyCount",
    "Petition",
    "PetitionQuerySet",
    "PostcodePrefix",
    "Region",
    "RegionCount",
    "Signature",
    "SigningPause",
    "ThresholdPolicy",
    "Topic",
]
