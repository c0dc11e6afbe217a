// placeholder, replaced by the codegen work
