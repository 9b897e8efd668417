"""Running the conformance suites (``suites/``) against an endpoint: the pytest plugin and
what it hands to tests (the target, call providers, the webhook receiver)."""

from callrec.conformance._calls import (
    CallProvider,
    EmulatorCalls,
    NoCalls,
    NotApplicable,
    ProvidedCall,
    SuppliedCalls,
)
from callrec.conformance._receiver import Delivery, NotObserved, Receiver
from callrec.conformance._target import Target, TargetError

__all__ = [
    "CallProvider",
    "Delivery",
    "EmulatorCalls",
    "NoCalls",
    "NotApplicable",
    "NotObserved",
    "ProvidedCall",
    "Receiver",
    "SuppliedCalls",
    "Target",
    "TargetError",
]
