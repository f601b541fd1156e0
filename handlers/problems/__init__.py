"""The problem list, closed loop (问题清单 闭环管理): actions, views and the Excel export."""
