"""The office's files: pairings (结对居村), research topics (调研课题) and past 述学, imported whole or not at all."""
