"""Data forms (biểu số liệu): a spec written in TOML, and the figures read from a unit's file.

A form is described by data, not code, so that an office can add or reword an indicator without
a release. One module per step: `spec` (the TOML format, checked once), `cells` (the file as
tables of cells), `tables` (which row names which indicator, which cell holds its value) and
`reading` (read_form: the figures, and the problems placed at the sender's own cells).
"""

from parsers.forms.reading import (
    FORM_MISSING_VALUE,
    FORM_NOT_NUMBER,
    FORM_PROBLEM_CODES,
    FORM_RULE,
    FormResult,
    FormValue,
    read_form,
    read_forms,
)
from parsers.forms.spec import (
    Comparison,
    FormSpec,
    FormSpecError,
    Indicator,
    Rule,
    load_spec,
)

__all__ = [
    "FORM_MISSING_VALUE",
    "FORM_NOT_NUMBER",
    "FORM_PROBLEM_CODES",
    "FORM_RULE",
    "Comparison",
    "FormResult",
    "FormSpec",
    "FormSpecError",
    "FormValue",
    "Indicator",
    "Rule",
    "load_spec",
    "read_form",
    "read_forms",
]
