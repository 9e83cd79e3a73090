"""CSV imports of products and customers: our own columns and the exports of Sapo, KiotViet and Shopee."""
