"""Lists a manager acts on: the recall worklist, follow-up assessments due, the lot trace."""
