"""One module per external format. Readers turn files into `Record`s; writers turn `Record`s into
files. Formats know nothing of the store."""
