"""Application events that one domain announces and others react to.

A domain sends a signal where something happened (``auth`` when a person joins
a structure); another domain connects a receiver to act on it (``training``
gives the new member the structure's default path). The sender does not need
to know who listens, so ``auth`` stays free of training imports.

Receivers run synchronously, inside the sender's transaction: what they add is
committed or rolled back with it. A receiver is connected when its module is
imported (the application factory imports every domain's views, and with them
their services).
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

# Sent with the structure as sender and keyword arguments
# ``user`` (User), ``membership`` (Membership, active) and ``now`` (aware UTC datetime),
# after a person joined a structure (an invitation accepted), before the commit.
member_joined = signals.signal("member-joined")

# Sent with the Enrolment as sender and keyword argument ``now``, after a
# person's attendance at an event was recorded (``scheduling.enrolment.mark_attendance``),
# before the commit. ``impact`` e-mails the satisfaction survey to attendees.
attendance_marked = signals.signal("attendance-marked")
