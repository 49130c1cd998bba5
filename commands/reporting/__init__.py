"""The progress report and the register as files: one view model (`model`), and renderers for Slack (`summary`),
Word (`word`), Excel (`workbook`), CSV (`csvfile`) and charts (`charts`); `register` holds the columns that
export writes and import reads."""
