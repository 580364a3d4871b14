"""What each destination is sent: notice planning and the render context."""
