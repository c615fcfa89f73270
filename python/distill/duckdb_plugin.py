"""The dbt-duckdb plugin: registers distill's vectorised SQL functions on the connection.

Named in profiles.yml, so plain `dbt build` gets the same functions as `distill run-all`; the
cursors dbt opens per thread share the connection's catalog, functions included.
"""

from dataclasses import replace
from pathlib import Path

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from distill.canonical import sig_hash_arrow
from distill.home import Home


def register_functions(conn: duckdb.DuckDBPyConnection) -> None:
    """`distill_sig_hash(line)`: the RFC 8785 sha256 of a JSON line (SPEC §4), NULL if not I-JSON."""
    conn.create_function(
        "distill_sig_hash",
        sig_hash_arrow,
        [duckdb.sqltype("VARCHAR")],
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        # The folders the models write into must exist before DuckDB opens or COPYs anything.
        home, output_root = plugin_config.get("home"), plugin_config.get("output_root")
        if home:
            root = Home.resolve(home)
            staged = Path(output_root).resolve() if output_root else None
            replace(root, staged=staged if staged != root.root else None).make_output_dirs()

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_functions(conn)
