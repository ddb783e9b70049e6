"""DynamoDB adapters. The only modules that know the table's item layout."""
