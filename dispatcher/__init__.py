"""dispatcher: SMS and loudspeaker-broadcast campaigns for local government outreach."""

__version__ = "0.1.0"
