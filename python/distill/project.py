"""What the dbt project declares once and the package reads from it: the source streams, the
exports and the consumer formats (`dbt_project.yml`, vars `streams`, `exports`,
`consumer_formats`), so that a stream or an export is named in one place."""

from pathlib import Path

import yaml

# The dbt project ships inside the repository, one level above python/.
PROJECT_DIR = Path(__file__).resolve().parents[2]

_VARS = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]

# The twelve source streams, in the order the docs list them.
STREAMS: tuple[str, ...] = tuple(_VARS["streams"])
# The exports, by model: the folder of its day parts, its receipt stage, the prefix of its ids.
EXPORTS: dict[str, dict[str, str]] = _VARS["exports"]
# The consumer formats (`--format`), by name: each model's folder and receipt stage.
FORMATS: dict[str, dict[str, dict[str, str]]] = _VARS["consumer_formats"]

EXPORT_DIRS = {model: spec["folder"] for model, spec in EXPORTS.items()}
FORMAT_DIRS = {name: {model: spec["folder"] for model, spec in models.items()} for name, models in FORMATS.items()}
# The receipt stage of every model that writes parts.
PART_STAGES = {model: spec["stage"] for model, spec in
               [*EXPORTS.items(), *(item for models in FORMATS.values() for item in models.items())]}
EXPORT_PREFIXES = {spec["id_prefix"]: model for model, spec in EXPORTS.items()}
