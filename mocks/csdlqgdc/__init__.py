"""Mock national population database (CSDLQGDC): every province's citizens, on NDXP."""
