from bridge.cli import cli

cli()
