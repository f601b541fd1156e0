"""Commitments (一名党员一个承诺): /commit and reports of keeping them."""
