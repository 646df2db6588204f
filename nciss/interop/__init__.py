"""Reading and writing incidents in other tools' formats: VERIS, STIX 2.1, MISP, IntelMQ, CSV.

Every format reads into and writes from one shape, :class:`IncidentRecord` (facts in the facts
vocabulary plus what travels with them), so that an import, the platform and an export agree.
Readers take a binary stream and its name and yield records or :class:`Rejected` entries, never
stopping the batch for one bad record. Plain Python: never imports Django.
"""

from nciss.interop.records import Assessed, IncidentRecord, Observable, Rejected

__all__ = ["Assessed", "IncidentRecord", "Observable", "Rejected"]
