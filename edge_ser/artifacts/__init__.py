"""The contract between ``edge-ser export`` and the apps, CI and runtimes that use its output.

- ``layout``: file names, tensor names and shapes of an export directory;
- ``formats``: what each artifact format is (file name, precision, input kind, runtime);
- ``manifest``: reading and checking ``manifest.json`` and the files it lists.

Building and writing artifacts is the exporter's job (``edge_ser.export``); everything that
reads an export directory depends only on this package.
"""
