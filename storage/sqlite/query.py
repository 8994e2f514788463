"""Plain SELECTs as dicts: sqlite-utils' rows_where inspects the schema on every call, too slow on hot paths."""

from __future__ import annotations

from typing import Any, Sequence

from sqlite_utils import Database


def select(db: Database, table: str, where: str = "", params: Sequence[Any] = (), order_by: str = "") -> list[dict[str, Any]]:
    sql = f"select * from [{table}]"
    if where:
        sql += f" where {where}"
    if order_by:
        sql += f" order by {order_by}"
    cursor = db.execute(sql, list(params))
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]
