"""Organization life (组织生活): meetings recorded once, their credits, make-ups and 四必有."""
