"""Data files the formats ship: taxonomies, mappings, the STIX extension definition and its schema."""
