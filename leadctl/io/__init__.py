"""Reading exports, mapping them onto canonical tables, and writing outputs atomically."""
