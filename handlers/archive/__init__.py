"""资料归档 (issue 18): the campaign's records and the files behind them, in one zip."""
