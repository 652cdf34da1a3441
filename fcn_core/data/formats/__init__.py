"""Dataset formats: one module per layout (a detector and a reader each) and the export writers."""
