module github.com/dtecl/pipeline/functions/sign

go 1.26
