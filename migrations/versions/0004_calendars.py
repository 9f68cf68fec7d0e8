"""calendars: feed tokens and feed states

Revision ID: 0004_calendars
Revises: 0003_scheduling
Create Date: 2026-11-23 12:22:35.932177

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_calendars"
down_revision = "0003_scheduling"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_feed_state',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('etag', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_calendar_feed_state'))
    )
    op.create_table('calendar_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_calendar_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_token_token_hash')),
    sa.UniqueConstraint('user_id', name=op.f('uq_calendar_token_user_id'))
    )


def downgrade():
    op.drop_table('calendar_token')
    op.drop_table('calendar_feed_state')
