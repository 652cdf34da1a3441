"""Dataset layouts of other published datasets: one module per layout (``nyud``, ``siftflow``)."""
