"""The engine's exception root: every error the engine raises on purpose derives from JunmaiError."""


class JunmaiError(Exception):
    """Root of the engine's own errors; the message is meant for the photographer."""


class ConfigError(JunmaiError):
    """A setting has a value the engine cannot use; the message names it and the accepted form."""


class BrokerError(JunmaiError):
    """Redis cannot be started, reached or used."""


class EngineNotRunning(JunmaiError):
    """A client command needs a running engine for this data dir and there is none."""


class PhotoError(JunmaiError):
    """One photo cannot be processed; the session goes on without it.

    The message is one human line ("truncated JPEG: ends after 2,301 of 48,112 bytes").
    """


class UnsupportedPhoto(PhotoError):
    """Not a format we read (or not an image at all): the photo ends `unsupported`."""


class UnreadablePhoto(PhotoError):
    """A format we read, but this file is damaged, vanished or unreadable: the photo ends `failed`."""


class PresetError(JunmaiError):
    """A Lightroom preset file cannot be used; the message names the file."""
