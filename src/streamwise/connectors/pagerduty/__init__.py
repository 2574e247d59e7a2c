"""PagerDuty: services and incidents (with their log entries) read over REST API v2."""
