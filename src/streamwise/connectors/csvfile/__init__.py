"""The file connector: CSV and JSON files in Streamwise's documented import format."""
