"""The REST API's resources, one module each; ``problems`` turns every error into JSON."""
