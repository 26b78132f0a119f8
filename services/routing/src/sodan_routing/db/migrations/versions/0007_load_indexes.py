"""indexes for what every unit of work and the sweep read: counsellors' loads (held
cases, 保留 included), cases closed and first answered within the measuring window

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "routing"


def upgrade() -> None:
    # Every routing transaction counts each counsellor's held cases; 'assigned_cases'
    # leaves the on-hold ones out, so the count read the whole table.
    op.create_index(
        "held_cases",
        "cases",
        ["assigned_to"],
        schema=S,
        postgresql_where=sa.text("status IN ('assigned', 'on_hold')"),
    )
    # Congestion's handling and first-response times (the sweep, every first greeting)
    # read the last two hours; without these, all closed cases ever (ms per 10k cases).
    op.create_index(
        "closed_cases",
        "cases",
        ["closed_at"],
        schema=S,
        postgresql_where=sa.text("status = 'closed'"),
    )
    op.create_index(
        "first_responses",
        "cases",
        ["first_response_at"],
        schema=S,
        postgresql_where=sa.text("first_response_at IS NOT NULL"),
    )


def downgrade() -> None:
    for name in ("first_responses", "closed_cases", "held_cases"):
        op.drop_index(name, "cases", schema=S)
