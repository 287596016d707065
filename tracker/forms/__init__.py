"""Writing workbooks with xlsxwriter: the unit forms and the master."""
