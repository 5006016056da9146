"""Registry import and export in the national 监测对象信息 layout (see columns.py)."""

from shouwang.registry.io.columns import COLUMNS, IMPORT_COLUMNS, Column
from shouwang.registry.io.services import (
    ImportReport,
    import_summary_text,
    registry_export,
    registry_import,
    registry_import_run,
    registry_import_submit,
    registry_template,
)

__all__ = [
    "COLUMNS",
    "IMPORT_COLUMNS",
    "Column",
    "ImportReport",
    "import_summary_text",
    "registry_export",
    "registry_import",
    "registry_import_run",
    "registry_import_submit",
    "registry_template",
]
