"""CDEvents over CloudEvents 1.0 (HTTP binary and structured mode), received by webhook."""
