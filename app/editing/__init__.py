"""Label editing on the main window: tools, document, saving, recovery, export and fine-tuning."""

from app.editing.controller import EditingController

__all__ = ["EditingController"]
