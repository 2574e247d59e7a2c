"""Raw records → the common data model, by the mappings of the organisation configuration."""
