"""The crosswalk tables against the facts of real incidents: the VCDB development set, read by the VERIS importer."""

from __future__ import annotations

import gzip
import io
import itertools

import pytest

import nciss
from nciss.crosswalks import agreement
from nciss.interop import IncidentRecord, veris
from nciss.tests.shared import shared

VCDB = shared("data", "vcdb", "dev.jsonl.gz")


@pytest.mark.skipif(not VCDB.exists(), reason=f"the VCDB development set is not at {VCDB}")
def test_every_crosswalk_table_reads_the_vcdb_records_as_their_facts_do() -> None:
    records = veris.read(io.BytesIO(gzip.decompress(VCDB.read_bytes())), VCDB.name.removesuffix(".gz"))
    facts = [r.facts for r in records if isinstance(r, IncidentRecord)]
    assert len(facts) == 6881
    for source, target in itertools.permutations(nciss.list_scales(), 2):
        agreeing, total = agreement(source, target, facts)
        # docs/scales/README.md records the figures (98.8-100 % on 2026-11-30)
        assert agreeing / total >= 0.95, f"{source.id} -> {target.id}: {agreeing}/{total}"
