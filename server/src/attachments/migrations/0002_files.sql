-- Issue 13: files other than images (the web widget's PDF and text uploads) and the name the customer
-- gave the file, sealed with their data key under AAD `att:<id>:name`. Files have no pixels: their
-- width and height are 0.
ALTER TABLE attachments ADD COLUMN name_ct BLOB;
