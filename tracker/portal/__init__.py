"""The patient portal: a patient's own treatment in plain words, phone first."""
