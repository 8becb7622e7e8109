"""Built-in KDF and cipher plugins of NeuralLog.

They are found through the same entry-point group (``neurallog``) as third-party plugins:
``neurallog_plugins.kdfs`` and ``neurallog_plugins.ciphers`` hold only hookimpls and the
algorithm objects they register.
"""
