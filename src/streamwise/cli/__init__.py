"""The command line (Typer + Rich): parse, call one function below, render the result."""
