from logscan.cli import cli

cli()
