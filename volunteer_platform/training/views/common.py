"""What the training views share (kept for their imports; the helpers live in
``volunteer_platform.forms`` and serve every domain)."""

from volunteer_platform.forms import commit_or_show, form_status

__all__ = ["commit_or_show", "form_status"]
