"""The papers an office hands in: the Word stage summary in the official layout (GB/T 9704-2012),
rendered from a docxtpl template the office may replace; the Excel ledgers ready to print; the
charts. Platform-neutral and database-free: inputs are the typed dataclasses of ``context`` and
``ledger_xlsx``, outputs are bytes or files.
"""
