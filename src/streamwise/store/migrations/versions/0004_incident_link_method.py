"""incident link method

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.add_column(sa.Column("caused_by_method", sa.String(length=50), nullable=True))
    # Links resolved before this revision all came from an explicit reference.
    op.execute(
        "UPDATE incidents SET caused_by_method = 'explicit' "
        "WHERE caused_by_deployment_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.drop_column("caused_by_method")
