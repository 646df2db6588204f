"""Calibration of a scale against its history: the analysis core (plain Python, numpy, no Django).

For the owner of a scale refining a draft (docs/calibration.md):

- ``History``: incidents as columns (``History.from_records(facts_dicts)``, or the platform's reader);
- ``what_if(draft, current, history)`` -> ``WhatIf``: old x new matrix, movers with why,
  distribution against a target, effect per sector and classification; ``select(...)`` leads
  from any number to its incidents;
- ``sensitivity(scale, history, step=0.1)`` -> ``Sensitivity``: per weight, option value, band,
  threshold and rule threshold, how many incidents change level at -/+ one step;
- ``reference_cases(scale_id)``, ``check_cases(scale, cases)``: benchmark incidents with agreed levels;
- ``compatibility(a, b, history)`` -> ``Compatibility``: agreement matrix, weighted kappa, Spearman's
  rho and the crosswalk table checked against the facts;
- ``weighted_kappa``, ``spearman_rho``, ``krippendorff_alpha``, ``agreement_matrix``: the statistics.
"""

from nciss.calibration.compat import Compatibility, CrosswalkCheck, compatibility, crosswalk_check
from nciss.calibration.history import History, class_of
from nciss.calibration.reference import (
    CaseResult,
    ReferenceCase,
    check_case,
    check_cases,
    reference_case_scales,
    reference_cases,
)
from nciss.calibration.sensitivity import Parameter, ParameterEffect, Sensitivity, parameters, sensitivity, vary
from nciss.calibration.stats import (
    agreement_matrix,
    average_ranks,
    krippendorff_alpha,
    spearman_rho,
    spearman_rho_from_matrix,
    weighted_kappa,
)
from nciss.calibration.whatif import GroupEffect, Mover, WhatIf, default_target, levels_on, what_if, why_levels_differ

__all__ = [
    "CaseResult",
    "Compatibility",
    "CrosswalkCheck",
    "GroupEffect",
    "History",
    "Mover",
    "Parameter",
    "ParameterEffect",
    "ReferenceCase",
    "Sensitivity",
    "WhatIf",
    "agreement_matrix",
    "average_ranks",
    "check_case",
    "check_cases",
    "class_of",
    "compatibility",
    "crosswalk_check",
    "default_target",
    "krippendorff_alpha",
    "levels_on",
    "parameters",
    "reference_case_scales",
    "reference_cases",
    "sensitivity",
    "spearman_rho",
    "spearman_rho_from_matrix",
    "vary",
    "weighted_kappa",
    "what_if",
    "why_levels_differ",
]
