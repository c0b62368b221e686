"""An example dl-tutor lesson pack: the lessons are the YAML files in this directory."""
