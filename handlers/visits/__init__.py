"""Research and visits (调查研究 / 走访): /visit."""
