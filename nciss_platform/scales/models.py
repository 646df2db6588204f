"""No tables: scales are read through the core (``nciss.load_scale``), presets and files alike."""
