"""scheduling: rooms, kits, events, series, bookings, enrolments

Revision ID: 0003_scheduling
Revises: 0002_training
Create Date: 2026-11-23 11:54:36.678323

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003_scheduling"
down_revision = "0002_training"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=100), nullable=False),
    sa.Column('rrule', sa.String(length=300), nullable=False),
    sa.Column('dtstart_local', sa.DateTime(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('skipped_dates', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_event_series_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_series')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_event_series_tenant_id_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_event_series_uid'))
    )
    with op.batch_alter_table('event_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_series_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('kit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_kit_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kit')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_kit_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'name', name=op.f('uq_kit_tenant_id_name'))
    )
    with op.batch_alter_table('kit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kit_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('scheduling_settings',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('signup_horizon_days', sa.Integer(), nullable=False),
    sa.Column('cancellation_deadline_hours', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_scheduling_settings_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_scheduling_settings'))
    )
    op.create_table('room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('equipment', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_room_capacity_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'site_id'], ['site.tenant_id', 'site.id'], name=op.f('fk_room_tenant_id_site_id_site')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_room_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_room_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'site_id', 'name', name=op.f('uq_room_tenant_id_site_id_name'))
    )
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_room_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(site_id IS NULL) <> (room_id IS NULL)', name=op.f('ck_closure_site_xor_room')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_closure_ordered_dates')),
    sa.ForeignKeyConstraint(['tenant_id', 'room_id'], ['room.tenant_id', 'room.id'], name=op.f('fk_closure_tenant_id_room_id_room'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'site_id'], ['site.tenant_id', 'site.id'], name=op.f('fk_closure_tenant_id_site_id_site')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_closure_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closure')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_closure_tenant_id_id'))
    )
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closure_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('training_session', 'workshop', 'shift', 'booking', name='event_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('what_to_bring', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('trainer_id', sa.Integer(), nullable=True),
    sa.Column('module_id', sa.Integer(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('required_qualification_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', name='event_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('recurrence_local', sa.DateTime(), nullable=True),
    sa.Column('is_exception', sa.Boolean(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminders_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_event_capacity_positive')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_event_starts_before_ending')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_event_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['module_id'], ['module.id'], name=op.f('fk_event_module_id_module'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['required_qualification_id'], ['qualification.id'], name=op.f('fk_event_required_qualification_id_qualification'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'room_id'], ['room.tenant_id', 'room.id'], name=op.f('fk_event_tenant_id_room_id_room')),
    sa.ForeignKeyConstraint(['tenant_id', 'series_id'], ['event_series.tenant_id', 'event_series.id'], name=op.f('fk_event_tenant_id_series_id_event_series')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_event_tenant_id_tenant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainer_id'], ['user_account.id'], name=op.f('fk_event_trainer_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_event_tenant_id_id')),
    sa.UniqueConstraint('uid', name=op.f('uq_event_uid'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_series', ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_event_tenant_starts', ['tenant_id', 'starts_at'], unique=False)

    op.create_table('opening_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens_at', sa.Time(), nullable=False),
    sa.Column('closes_at', sa.Time(), nullable=False),
    sa.CheckConstraint('opens_at < closes_at', name=op.f('ck_opening_hours_opens_before_closing')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_opening_hours_weekday_range')),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_opening_hours_room_id_room'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_hours'))
    )
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_hours_room_id'), ['room_id'], unique=False)

    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('confirmed', 'waitlisted', 'cancelled', name='enrolment_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_late', sa.Boolean(), nullable=False),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('attendance', sa.Enum('present', 'absent', 'excused', name='attendance', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('attendance_marked_by_id', sa.Integer(), nullable=True),
    sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attendance_marked_by_id'], ['user_account.id'], name=op.f('fk_enrolment_attendance_marked_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['user_account.id'], name=op.f('fk_enrolment_cancelled_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id', 'event_id'], ['event.tenant_id', 'event.id'], name=op.f('fk_enrolment_tenant_id_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_enrolment_tenant_id_tenant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_enrolment_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_enrolment_event_id_user_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_enrolment_tenant_id_id'))
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_enrolment_user', ['user_id'], unique=False)

    op.create_table('event_kit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kit_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'event_id'], ['event.tenant_id', 'event.id'], name=op.f('fk_event_kit_tenant_id_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'kit_id'], ['kit.tenant_id', 'kit.id'], name=op.f('fk_event_kit_tenant_id_kit_id_kit')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_event_kit_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_kit')),
    sa.UniqueConstraint('event_id', 'kit_id', name=op.f('uq_event_kit_event_id_kit_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_event_kit_tenant_id_id'))
    )
    with op.batch_alter_table('event_kit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_kit_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('resource', sa.String(length=40), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_booking_starts_before_ending')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_booking_enrolment_id_enrolment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_booking_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_booking_resource_time', ['resource', 'starts_at', 'ends_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # The database itself refuses two active bookings of one resource whose
        # time ranges overlap ([) ranges: back-to-back is fine). btree_gist lets
        # a GiST index mix equality on the resource with range overlap.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
            "(resource WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (is_active)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE booking DROP CONSTRAINT IF EXISTS booking_no_overlap")
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_resource_time')
        batch_op.drop_index(batch_op.f('ix_booking_event_id'))
        batch_op.drop_index(batch_op.f('ix_booking_enrolment_id'))

    op.drop_table('booking')
    with op.batch_alter_table('event_kit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_kit_tenant_id'))

    op.drop_table('event_kit')
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolment_user')
        batch_op.drop_index(batch_op.f('ix_enrolment_tenant_id'))

    op.drop_table('enrolment')
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_hours_room_id'))

    op.drop_table('opening_hours')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_tenant_starts')
        batch_op.drop_index(batch_op.f('ix_event_tenant_id'))
        batch_op.drop_index('ix_event_series')

    op.drop_table('event')
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closure_tenant_id'))

    op.drop_table('closure')
    with op.batch_alter_table('room', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_room_site_id'))

    op.drop_table('room')
    op.drop_table('scheduling_settings')
    with op.batch_alter_table('kit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kit_tenant_id'))

    op.drop_table('kit')
    with op.batch_alter_table('event_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_series_tenant_id'))

    op.drop_table('event_series')
