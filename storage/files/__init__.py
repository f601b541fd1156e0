"""The file store (issue 18): the files members send, kept by the bot.

``store`` is the interface (``FileStore.put`` → ``StoredFile``), ``local`` and ``s3`` its two
stores, ``detect`` and ``limits`` what may be kept, ``names`` the one sanitizer of file names,
``catalog`` and ``downloads`` their rows in the database. Import the submodules directly: this
package imports nothing, so ``storage.models`` can use ``names`` without a cycle.
"""
